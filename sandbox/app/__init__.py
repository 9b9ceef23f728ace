"""The assembly: the WSGI app, the request pipeline and the wiring of every part."""
