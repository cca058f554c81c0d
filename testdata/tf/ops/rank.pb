
6
xPlaceholder*
dtype0*
shape:

RankRankx*
T0
#
IdentityIdentityRank*
T0"ª