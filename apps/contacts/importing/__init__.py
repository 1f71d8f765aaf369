"""Contact list import: reading messy CSV/XLSX files, mapping their columns, parsing their values."""
