
7
tensorPlaceholder*
dtype0*
shape
:
8
indicesPlaceholder*
dtype0*
shape
:
8
updatesPlaceholder*
dtype0*
shape
:
}
TensorScatterUpdateTensorScatterUpdatetensorindicesupdates*
Tindices0*
T0*
bad_indices_policyIGNORE
2
IdentityIdentityTensorScatterUpdate*
T0"ª