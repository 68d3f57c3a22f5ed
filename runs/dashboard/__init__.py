"""The browser dashboard (Solara).

The explore page, the wargame room and team pages, and the server state they share.
"""
