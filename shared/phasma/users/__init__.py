"""Users: registration, profiles, password changes and the public user shape."""
