"""The public results site as files: pages, the open-data CSV files and the map, rendered
from a wave's figures (`content.SiteContent`) with no database and no network.

Pure rendering: `storage.site` gathers the figures and writes the folder. Every figure a
page shows is a cell of a CSV file published beside it, written by the same formatter
(`surveys.export.CellFormat`), so the page and the file cannot disagree.
"""
