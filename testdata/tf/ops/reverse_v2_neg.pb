
2
xPlaceholder*
dtype0*
shape
:
E
ReverseV2/axisConst*
dtype0*
valueB:
ÿÿÿÿÿÿÿÿÿ
>
	ReverseV2	ReverseV2xReverseV2/axis*

Tidx0*
T0
(
IdentityIdentity	ReverseV2*
T0"ª