
$

imageimage 


Identityprobs