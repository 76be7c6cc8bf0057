"""申领: a resident declares a deed with code and PIN; a recorder accepts it into an entry."""
