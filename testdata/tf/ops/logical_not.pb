
6
xPlaceholder*
dtype0
*
shape:


LogicalNot
LogicalNotx
)
IdentityIdentity
LogicalNot*
T0
"ª