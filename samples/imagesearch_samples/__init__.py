"""Sample pictures for tests, the tiny-model trainer and ``imgsearch demo``; never for the services.

The services and ``shared`` do not depend on this package: it is a tool, installed with the dev
group and with the CLI's ``demo`` extra.
"""
