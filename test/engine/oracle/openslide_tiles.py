#!/usr/bin/python3
"""Independent oracle for tile decoding: OpenSlide 3.4.1's pixels of level-0 regions.

Usage: openslide_tiles.py SLIDE OUT.raw X,Y,W,H [X,Y,W,H ...]
Writes each region's RGBA (read_region at level 0) to OUT.raw, one after the other, and prints
one JSON object with the vendor and the level-0 size.
"""
import json
import sys

import openslide


def main():
    s = openslide.OpenSlide(sys.argv[1])
    with open(sys.argv[2], "wb") as out:
        for spec in sys.argv[3:]:
            x, y, w, h = (int(v) for v in spec.split(","))
            out.write(s.read_region((x, y), 0, (w, h)).convert("RGBA").tobytes())
    print(json.dumps({"vendor": s.properties.get(openslide.PROPERTY_NAME_VENDOR), "size": list(s.dimensions)}))


main()
