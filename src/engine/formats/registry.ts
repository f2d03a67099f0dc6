import type { SlideFormat } from './slide-format.ts';
import { aperioSvs } from './aperio-svs.ts';
import { dicomWsiFormat } from './dicom-wsi.ts';
import { genericTiff } from './generic-tiff.ts';
import { hamamatsuNdpi } from './hamamatsu-ndpi.ts';
import { omeTiff } from './ome-tiff.ts';
import { ventanaBif } from './ventana-bif.ts';
import { leicaScn } from './leica-scn.ts';
import { philipsTiff } from './philips-tiff.ts';
import { mirax } from './mirax.ts';

/**
 * Drivers in the order they are tried: specific vendors first, generic TIFF last (as OpenSlide
 * does), so a generic reader never claims a file a vendor driver understands better.
 * Keep genericTiff LAST: it claims every TIFF so that damaged ones report their real error.
 * MIRAX first: it claims by part name (.mrxs / Slidedat.ini), and its parts are no TIFF.
 */
export const formats: SlideFormat[] = [mirax, hamamatsuNdpi, ventanaBif, aperioSvs, dicomWsiFormat, leicaScn, omeTiff, philipsTiff, genericTiff];
