
6
xPlaceholder*
dtype0*
shape:
:
ConstConst*
dtype0*
valueB"þÿÿÿÿÿÿÿ
:
MaxMaxxConst*

Tidx0*
T0*
	keep_dims(
"
IdentityIdentityMax*
T0"ª