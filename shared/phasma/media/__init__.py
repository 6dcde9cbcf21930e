"""Media: streaming stored images to browsers and caches."""
