
:
xPlaceholder*
dtype0*
shape:
3
ConstConst*
dtype0	*
valueB	R
6
Const_1Const*
dtype0	*
valueB	
^
BatchToSpaceNDBatchToSpaceNDxConstConst_1*
Tblock_shape0	*
Tcrops0	*
T0
-
IdentityIdentityBatchToSpaceND*
T0"ª