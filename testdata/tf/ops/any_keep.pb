
6
xPlaceholder*
dtype0
*
shape:
<
ConstConst*
dtype0*
valueB:
þÿÿÿÿÿÿÿÿ
1
AnyAnyxConst*

Tidx0*
	keep_dims(
"
IdentityIdentityAny*
T0
"ª