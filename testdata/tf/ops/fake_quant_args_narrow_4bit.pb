
2
xPlaceholder*
dtype0*
shape
:
u
FakeQuantWithMinMaxArgsFakeQuantWithMinMaxArgsx*
max%š™Ù?*
min%š™™¾*
narrow_range(*
num_bits
6
IdentityIdentityFakeQuantWithMinMaxArgs*
T0"ª