"""Maps: the interactive Folium page and the static board-paper figures share one style."""
