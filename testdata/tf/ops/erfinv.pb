
2
xPlaceholder*
dtype0*
shape
:
#
erfinv/ErfinvErfinvx*
T0
,
IdentityIdentityerfinv/Erfinv*
T0"ª