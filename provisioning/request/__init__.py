"""A request body turned into a valid request, or refused with every
problem at its field: reading the JSON, the published contract, domain
names, PEM checks, and validation tying them together. Stores nothing and
calls nothing outside the process; imports only ``errors`` and ``settings``
from the rest of the project."""
