"""Units (the organisation tree) and holders (households and party members)."""
