"""一户一码 积分卡: printed household cards whose QR code the counter reads."""
