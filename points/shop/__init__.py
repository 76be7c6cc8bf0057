"""爱心超市: the love supermarket — shops, goods, stock and redemptions of points for goods."""
