"""The folder tree: subfolders with counts, empty folders, moves, trash, batches, zip."""
