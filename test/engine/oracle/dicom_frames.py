#!/usr/bin/python3
"""Independent oracle for DICOM frame decoding, without our parser or codecs.

Usage: dicom_frames.py FILE OUT.raw FRAME [FRAME ...]   (frame numbers from 0)
Frames of native files come from pydicom's pixel_array; JPEG 2000 frames are taken out of the
encapsulated Pixel Data by pydicom and decoded by Pillow (the system's libopenjp2). Writes each
frame's RGB (grey repeated) to OUT.raw and prints one JSON object with rows/columns/photometric.
"""
import io
import json
import sys

import numpy as np
import pydicom
from pydicom.encaps import generate_pixel_data_frame
from PIL import Image


def rgb(a):
    a = np.asarray(a, dtype=np.uint8)
    return np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a


def main():
    ds = pydicom.dcmread(sys.argv[1])
    frames = [int(f) for f in sys.argv[3:]]
    ts = str(ds.file_meta.TransferSyntaxUID)
    with open(sys.argv[2], "wb") as out:
        if ts in ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"):
            all_frames = list(generate_pixel_data_frame(ds.PixelData, int(ds.NumberOfFrames)))
            for f in frames:
                out.write(rgb(Image.open(io.BytesIO(all_frames[f])).convert("RGB" if ds.SamplesPerPixel == 3 else "L")).tobytes())
        elif not ds.file_meta.TransferSyntaxUID.is_compressed:
            px = ds.pixel_array
            if int(ds.get("NumberOfFrames", 1)) == 1:
                px = px[None, ...]
            for f in frames:
                out.write(rgb(px[f]).tobytes())
        else:
            raise SystemExit("unsupported transfer syntax for this oracle: " + ts)
    print(json.dumps({"rows": ds.Rows, "columns": ds.Columns, "photometric": ds.PhotometricInterpretation, "transferSyntax": ts}))


main()
