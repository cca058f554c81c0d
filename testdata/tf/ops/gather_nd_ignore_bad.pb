
7
paramsPlaceholder*
dtype0*
shape
:
8
indicesPlaceholder*
dtype0*
shape
:
d
GatherNdGatherNdparamsindices*
Tindices0*
Tparams0*
bad_indices_policyIGNORE
'
IdentityIdentityGatherNd*
T0"ª