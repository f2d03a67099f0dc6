import type { SlideFormat } from './slide-format.ts';

/**
 * Drivers in the order they are tried: specific vendors first, generic TIFF last (as OpenSlide
 * does), so a generic reader never claims a file a vendor driver understands better.
 */
export const formats: SlideFormat[] = [];
