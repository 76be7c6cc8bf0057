"""The administrators' pages (/admin/...): units, holders, users, shops and goods, schemes,
year-end close."""
