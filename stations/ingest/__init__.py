"""Import office station sheets: read them as offices keep them, validate, and build.

One module per concern: :mod:`.sources` reads files into text columns, :mod:`.validate`
checks rows and converts positions to WGS84, :mod:`.build` writes the GeoPackage.
"""
