"""Import office station sheets: read them as offices keep them, validate, build, re-import.

One module per concern: :mod:`.sources` reads files, :mod:`.layout` finds the table in a sheet,
:mod:`.headings` names its columns, :mod:`.cells` checks every cell, :mod:`.positions`,
:mod:`.amenities`, :mod:`.hours_zh` and :mod:`.divisions` read what offices write,
:mod:`.ids` makes ids, :mod:`.validate` checks rows and converts positions to WGS84,
:mod:`.build` writes the GeoPackage, :mod:`.changes` and :mod:`.review` turn a re-import into a
reviewed change set.
"""
