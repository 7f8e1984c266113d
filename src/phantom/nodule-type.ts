/** Nodule attenuation types used by Lung-RADS. */
export type NoduleType = 'solid' | 'part-solid' | 'ground-glass';
