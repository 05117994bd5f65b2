"""File formats the hospital hands us (the blacklist as CSV/XLSX, the catalogue as plain data),
read into the domain's types. Kept out of the domain's core: the use cases take parsed data."""
