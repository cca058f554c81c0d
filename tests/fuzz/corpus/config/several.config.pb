
 

imagex '

functional_1/conv2d_1/BiasAddconv6
.
,functional_1/global_average_pooling2d_1/Meanmean'

functional_1/dense_1/Softmaxprobs