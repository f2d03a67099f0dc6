import type { SlideFormat } from './slide-format.ts';
import { aperioSvs } from './aperio-svs.ts';
import { dicomWsiFormat } from './dicom-wsi.ts';
import { genericTiff } from './generic-tiff.ts';

/**
 * Drivers in the order they are tried: specific vendors first, generic TIFF last (as OpenSlide
 * does), so a generic reader never claims a file a vendor driver understands better.
 * Keep genericTiff LAST: it claims every TIFF so that damaged ones report their real error.
 */
export const formats: SlideFormat[] = [aperioSvs, dicomWsiFormat, genericTiff];
