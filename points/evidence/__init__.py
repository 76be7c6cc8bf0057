"""照片佐证: photos attached to an entry, checked by content and stored by their SHA-256."""
