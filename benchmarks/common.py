"""What both benchmarks generate from: astrophysical objects that appear in notebooks and runs."""

OBJECTS = [
    "Mrk 421",
    "Mrk 501",
    "Crab",
    "Cyg X-1",
    "SN 2023ixf",
    "3C 279",
    "PKS 2155-304",
    "Sgr A*",
    "GRB 221009A",
    "Vela X-1",
    "M87",
    "NGC 1275",
    "Cen A",
    "1ES 1959+650",
    "GX 339-4",
    "Cas A",
]
