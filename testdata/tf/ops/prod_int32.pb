
6
xPlaceholder*
dtype0*
shape:
3
ConstConst*
dtype0*
valueB:
<
ProdProdxConst*

Tidx0*
T0*
	keep_dims(
#
IdentityIdentityProd*
T0"ª