"""公益金: the public-welfare fund of a unit, money in and out, in yuan."""
