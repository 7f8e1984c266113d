// The CT of one series in three planes (axial, coronal, sagittal), rendered by cornerstone3D from nodus's own
// DICOMweb side: instance metadata from WADO-RS /metadata, pixels from WADO-RS /frames (as stored, decoded in
// cornerstone's workers), one streaming volume shared by the three viewports. World coordinates are DICOM
// patient coordinates (LPS, mm), the same frame as nodus's findings.
//
// Mouse: left drag window/level, middle drag pan, right drag zoom, wheel scroll. The caliper (bidirectional
// tool) and the add-nodule click take the left button while they are on.
import type { CaliperAxes } from '../../shared/caliper-axes.js';
import {
  cache,
  Enums,
  eventTarget,
  getRenderingEngine,
  init as initCore,
  ProgressiveRetrieveImages,
  RenderingEngine,
  setVolumesForViewports,
  utilities,
  volumeLoader,
  type Types,
} from '@cornerstonejs/core';
import { init as initLoader, wadors } from '@cornerstonejs/dicom-image-loader';
import {
  addTool,
  annotation,
  BidirectionalTool,
  Enums as ToolEnums,
  init as initTools,
  PanTool,
  segmentation,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  type Types as ToolTypes,
} from '@cornerstonejs/tools';
import { DISPLAY_WINDOWS } from '../../volume/display-window.js';
import { showSlicePreview, type HuWindow } from './slice-preview.js';

export type WindowPreset = 'lung' | 'mediastinal';
export const PLANES = ['axial', 'coronal', 'sagittal'] as const;
export type Plane = (typeof PLANES)[number];
/** The panes: the current study's three planes, and the prior's axial plane. */
export type ViewportName = Plane | 'prior';

/** A caliper drawn on the image: the long axis and the perpendicular short axis, in mm, and their ends. */
export interface Caliper {
  longAxisMm: number;
  shortAxisMm: number;
  /** The axes' end points, LPS mm. */
  axesLps: CaliperAxes;
}

export interface CtViewer {
  /** Resolves when every frame of the series is in the volume. */
  loaded: Promise<void>;
  /** Centres the three planes on a point (LPS, mm) and shows its slice in each. */
  jumpTo(pointLps: number[]): void;
  setWindow(preset: WindowPreset): void;
  /** Centres the prior's pane on a point of the prior's own frame (LPS, mm). */
  jumpPriorTo(pointLps: number[]): void;
  /** Moves the axial plane by `delta` slices. */
  scroll(delta: number): void;
  /** The 1-based slice a pane shows, and how many it has (undefined while the prior is not shown yet). */
  position(name: ViewportName): { index: number; count: number } | undefined;
  /** Outlines a nodule's mask (its voxels' centres, LPS) in all three planes; an empty list clears it. */
  outline(pointsLps: [number, number, number][]): void;
  /** The next left click on an image, as a point (LPS, mm); the left button returns to window/level after. */
  pickPoint(): Promise<[number, number, number]>;
  /**
   * Lets the reader draw a caliper (long axis, then its perpendicular short axis); `onCaliper` hears its axes
   * when drawn and whenever a handle moves, until stopTools.
   */
  measure(onCaliper: (caliper: Caliper) => void): void;
  /** Ends a pick or a caliper not finished: the left button returns to window/level, drawings are removed. */
  stopTools(): void;
  /** Called whenever a pane's camera or window changes (for the panes' slice captions). */
  onChange(listener: () => void): void;
  destroy(): void;
}

const ENGINE_ID = 'nodus-workspace';
const TOOL_GROUP_ID = 'nodus-ct';
const ORIENTATION = {
  axial: Enums.OrientationAxis.AXIAL,
  coronal: Enums.OrientationAxis.CORONAL,
  sagittal: Enums.OrientationAxis.SAGITTAL,
} as const;

/** The tools' names (their classes declare them untyped). */
const TOOLS = [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, BidirectionalTool];
const TOOL_NAMES = TOOLS.map((tool) => tool.toolName as string);
const WINDOW_LEVEL: string = WindowLevelTool.toolName as string;
const PAN: string = PanTool.toolName as string;
const ZOOM: string = ZoomTool.toolName as string;
const SCROLL: string = StackScrollTool.toolName as string;
const CALIPER: string = BidirectionalTool.toolName;

let initialised = false;
/** Starts cornerstone (its decoding workers included); the page calls it early, before a study opens. */
export function initialiseViewer(): void {
  if (initialised) return;
  // Half-float textures instead of 32-bit floats: half the texture memory and upload, which is what a
  // software renderer spends the first second on. Half floats hold every integer HU in [-2048, 2048] exactly
  // (steps of 2 HU above: dense bone and metal), far wider than the lung and mediastinum windows.
  initCore({ rendering: { preferSizeOverAccuracy: true }, debug: {} });
  // Frames come as stored: uncompressed ones are copied, JPEG / JPEG-LS / JPEG 2000 / RLE decoded in workers
  // whose codecs (WebAssembly) nodus serves itself under /workspace/wasm/.
  initLoader({
    maxWebWorkers: Math.max(1, Math.min(4, navigator.hardwareConcurrency - 1)),
    wasmBasePath: '/workspace/wasm/',
  });
  // Frames arrive interleaved: the middle, first and last slices, then every fourth, then the rest, so each
  // plane shows the whole series coarsely at once and fills in (cornerstone replicates neighbours meanwhile).
  utilities.imageRetrieveMetadataProvider.add('volume', ProgressiveRetrieveImages.interleavedRetrieveStages);
  initTools();
  for (const tool of TOOLS) addTool(tool);
  initialised = true;
}

interface InstanceMetadata {
  [tag: string]: { vr: string; Value?: unknown[] } | undefined;
}
const distanceMm = (p: Types.Point3, q: Types.Point3) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
const value = (instance: InstanceMetadata, tag: string) => instance[tag]?.Value?.[0];

/** The wadors image ids of a series' images, their metadata (WADO-RS /metadata) given to cornerstone. */
async function seriesImageIds(studyUid: string, seriesUid: string): Promise<string[]> {
  const base = `${location.origin}/dicomweb/studies/${studyUid}/series/${seriesUid}`;
  const response = await fetch(`${base}/metadata`, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`the series' metadata could not be read (HTTP ${response.status})`);
  const instances = ((await response.json()) as InstanceMetadata[]).filter(
    (instance) => value(instance, '7FE00010') !== undefined || instance['7FE00010'] !== undefined,
  );
  const imageIds = instances.map((instance) => {
    const imageId = `wadors:${base}/instances/${String(value(instance, '00080018'))}/frames/1`;
    wadors.metaDataManager.add(imageId, instance as never);
    return imageId;
  });
  if (imageIds.length === 0) throw new Error('the series has no images');
  return imageIds;
}

/** Resolves on the next `type` event of `target`, or after `timeoutMs` (never rejects). */
function eventOnce(target: EventTarget, type: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      target.removeEventListener(type, done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    target.addEventListener(type, done);
  });
}

/**
 * The axial pane's current slice on a 2D canvas over the pane (showSlicePreview) until its volume is first
 * drawn. `show()` puts it there once that slice's frame is in (true when it is shown); it goes at the pane's
 * next drawing after `volumeDrawn()`.
 */
function firstSlicePreview(viewport: Types.IVolumeViewport, pane: HTMLDivElement, window: HuWindow) {
  const imageId = viewport.getCurrentImageId();
  let remove: (() => void) | undefined;
  let done = false;
  const show = (): boolean => {
    const image = imageId ? cache.getImage(imageId) : undefined;
    if (!remove && image && !done) {
      remove = showSlicePreview(pane, viewport, image, window);
      performance.mark('nodus:first-slice');
    }
    return remove !== undefined;
  };
  const tryShow = () => void show();
  eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, tryShow);
  return {
    /** The slice the preview shows (the pane's first), or undefined when the pane has none. */
    imageId,
    show,
    volumeDrawn(): void {
      done = true;
      eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, tryShow);
      pane.addEventListener(Enums.Events.IMAGE_RENDERED, () => remove?.(), { once: true });
    },
  };
}

/** Slices on each side of the focus that load before the rest. */
const FOCUS_SLAB = 2;
/**
 * While frames stream in, the panes are drawn again at most this often, ms. Cornerstone's own cadence (every
 * 2 % of the frames) draws every pane some 50 times per series, which on a software renderer takes the CPU
 * that decoding and the texture uploads need.
 */
const LOADING_RENDER_INTERVAL_MS = 300;

/**
 * A streaming volume of the images, loading; `loaded` resolves when every frame is in it. With `focusLps`,
 * the slices around that point (the nodule shown first) load before the interleaved rest. `render` draws the
 * panes that show it: at once for the first frame, then every LOADING_RENDER_INTERVAL_MS, and when done.
 */
async function streamVolume(
  volumeId: string,
  imageIds: string[],
  render: () => void,
  focusLps?: number[],
): Promise<{ loaded: Promise<void> }> {
  const volume = await volumeLoader.createAndCacheVolume(volumeId, { imageIds });
  (volume as unknown as { autoRenderOnLoad: boolean }).autoRenderOnLoad = false;
  let lastRender = 0;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const modified = (event: Event) => {
    if ((event as CustomEvent<{ volumeId: string }>).detail.volumeId !== volumeId || pending) return;
    pending = setTimeout(
      () => {
        pending = undefined;
        lastRender = performance.now();
        render();
      },
      Math.max(0, lastRender + LOADING_RENDER_INTERVAL_MS - performance.now()),
    );
  };
  eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, modified);
  if (focusLps) {
    // The volume's image ids run along its k axis (cornerstone sorts them by position).
    const { origin, direction, spacing } = volume;
    const along = [0, 1, 2].reduce((s, a) => s + ((focusLps[a] ?? 0) - origin[a]!) * direction[6 + a]!, 0);
    const k = Math.round(along / spacing[2]);
    // The focus, then outwards: k, k-1, k+1, k-2, k+2, ...
    const positions = Array.from(
      { length: 2 * FOCUS_SLAB + 1 },
      (_, n) => k + (n % 2 ? -(n + 1) / 2 : n / 2),
    ).filter((index) => index >= 0 && index < volume.imageIds.length);
    utilities.imageRetrieveMetadataProvider.add(volumeId, {
      stages: [
        { id: 'focus', positions, priority: 4, requestType: Enums.RequestType.Thumbnail },
        ...ProgressiveRetrieveImages.interleavedRetrieveStages.stages,
      ],
    });
  }
  const loaded = new Promise<void>((resolve, reject) => {
    volume.load?.((...args: unknown[]) => {
      if ((args[0] as { success?: boolean } | undefined)?.success === false)
        reject(new Error('the series could not be loaded'));
    });
    const done = (event: Event) => {
      if ((event as CustomEvent<{ volumeId: string }>).detail.volumeId !== volumeId) return;
      eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_LOADING_COMPLETED, done);
      eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, modified);
      clearTimeout(pending);
      render();
      resolve();
    };
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_LOADING_COMPLETED, done);
  });
  return { loaded };
}

/** The prior study's series, shown axially beside the current one. */
export interface PriorSeries {
  element: HTMLDivElement;
  studyUid: string;
  seriesUid: string;
}

/**
 * Opens series `seriesUid` of study `studyUid`; the three planes fill `elements` in PLANES order, and a
 * prior's series (when given) its own axial pane, loaded after the current one. The slices around
 * `focusLps` (LPS mm: the nodule shown first) load first.
 */
export async function openCtViewer(
  elements: Record<Plane, HTMLDivElement>,
  studyUid: string,
  seriesUid: string,
  prior?: PriorSeries,
  focusLps?: number[],
): Promise<CtViewer> {
  initialiseViewer();
  performance.mark('nodus:viewer-open');
  const priorImageIds = prior ? seriesImageIds(prior.studyUid, prior.seriesUid) : undefined;
  priorImageIds?.catch(() => undefined);
  const imageIds = await seriesImageIds(studyUid, seriesUid);
  performance.mark('nodus:metadata-read');
  const panes: ViewportName[] = prior ? [...PLANES, 'prior'] : [...PLANES];
  const elementOf = (name: ViewportName) => (name === 'prior' ? prior!.element : elements[name]);

  getRenderingEngine(ENGINE_ID)?.destroy();
  const engine = new RenderingEngine(ENGINE_ID);
  engine.setViewports(
    panes.map((name) => ({
      viewportId: name,
      type: Enums.ViewportType.ORTHOGRAPHIC,
      element: elementOf(name),
      defaultOptions: {
        orientation: ORIENTATION[name === 'prior' ? 'axial' : name],
        background: [0, 0, 0] as Types.Point3,
      },
    })),
  );
  ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
  const tools = ToolGroupManager.createToolGroup(TOOL_GROUP_ID)!;
  for (const name of TOOL_NAMES) tools.addTool(name);
  const { MouseBindings } = ToolEnums;
  const navigate = () => {
    tools.setToolActive(WINDOW_LEVEL, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    tools.setToolPassive(CALIPER);
  };
  tools.setToolActive(PAN, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
  tools.setToolActive(ZOOM, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  tools.setToolActive(SCROLL, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  navigate();
  for (const name of panes) tools.addViewport(name, ENGINE_ID);

  const volumeId = `cornerstoneStreamingImageVolume:${seriesUid}`;
  const priorVolumeId = `cornerstoneStreamingImageVolume:${prior?.seriesUid ?? 'none'}`;
  // For bench:workspace: when the axial plane first renders (blank until its frames are in).
  elements.axial.addEventListener(Enums.Events.IMAGE_RENDERED, () => performance.mark('nodus:first-render'), {
    once: true,
  });
  // Nothing is drawn before the axial pane's first slice is in: drawing an empty volume costs a software
  // renderer as much as drawing the CT (its textures are made then) and would hold up the frames behind it.
  // That slice is shown at once on a 2D canvas (firstSlicePreview), painted before the volume's first drawing.
  let framesIn = false;
  const first: { preview?: ReturnType<typeof firstSlicePreview> } = {};
  const draw = () => {
    if (framesIn) engine.render();
  };
  const framesArrived = () => {
    const { preview } = first;
    if (!framesIn) {
      if (!preview || (preview.imageId && !cache.getImage(preview.imageId))) return;
      framesIn = true;
      const shown = preview.show();
      preview.volumeDrawn();
      // Two animation frames: the preview is painted before the long first drawing holds the page.
      if (shown) return void requestAnimationFrame(() => requestAnimationFrame(draw));
    }
    draw();
  };
  const { loaded } = await streamVolume(volumeId, imageIds, framesArrived, focusLps);
  let preset: WindowPreset = 'lung';
  const voiRange = () => {
    const { centerHu, widthHu } = DISPLAY_WINDOWS[preset];
    return { lower: centerHu - widthHu / 2, upper: centerHu + widthHu / 2 };
  };
  void eventOnce(eventTarget, Enums.Events.IMAGE_VOLUME_MODIFIED, 30_000).then(() =>
    performance.mark('nodus:first-frame'),
  );
  await setVolumesForViewports(engine, [{ volumeId }], [...PLANES]);
  performance.mark('nodus:volume-set');
  const applyWindow = () => {
    for (const name of panes) {
      if (name !== 'prior' || priorShown)
        engine.getViewport<Types.IVolumeViewport>(name).setProperties({ voiRange: voiRange() });
    }
    draw();
  };
  // The prior: its volume in its pane once the current one streams (its frames queue behind the current's).
  let priorShown = false;
  let priorFocus: number[] | undefined;
  applyWindow();
  if (focusLps) for (const plane of PLANES) centre(plane, focusLps);
  first.preview = firstSlicePreview(
    engine.getViewport<Types.IVolumeViewport>('axial'),
    elements.axial,
    voiRange(),
  );
  // Frames that came in while the panes were being set up (a short series may be in by now).
  framesArrived();
  void priorImageIds
    ?.then(async (ids) => {
      await streamVolume(priorVolumeId, ids, draw);
      await setVolumesForViewports(engine, [{ volumeId: priorVolumeId }], ['prior']);
      priorShown = true;
      applyWindow();
      if (priorFocus) centre('prior', priorFocus);
    })
    .catch(() => undefined);

  const listeners: (() => void)[] = [];
  const notify = () => listeners.forEach((listener) => listener());
  for (const name of panes) {
    elementOf(name).addEventListener(Enums.Events.CAMERA_MODIFIED, notify);
    elementOf(name).addEventListener(Enums.Events.VOI_MODIFIED, notify);
  }

  const segmentationId = `nodus-nodule-outline:${seriesUid}`;
  let labelmap: Types.IImageVolume | undefined;
  const outline = (points: [number, number, number][]) => {
    if (!labelmap) {
      labelmap = volumeLoader.createAndCacheDerivedLabelmapVolume(volumeId, {
        volumeId: segmentationId,
      });
      segmentation.addSegmentations([
        {
          segmentationId,
          representation: {
            type: ToolEnums.SegmentationRepresentations.Labelmap,
            data: { volumeId: segmentationId },
          },
        },
      ]);
      const map: Record<string, { segmentationId: string }[]> = {};
      for (const plane of PLANES) map[plane] = [{ segmentationId }];
      void segmentation.addLabelmapRepresentationToViewportMap(map);
      segmentation.config.style.setStyle(
        { type: ToolEnums.SegmentationRepresentations.Labelmap },
        { renderFill: false, renderOutline: true, outlineWidth: 2, outlineOpacity: 1 },
      );
    }
    const voxels = labelmap.voxelManager!;
    voxels.clear();
    const { dimensions, origin, direction, spacing } = labelmap;
    for (const point of points) {
      // Voxel index of an LPS point: along each axis (a row of `direction`), offset from the origin / spacing.
      const [i, j, k] = [0, 1, 2].map((axis) =>
        Math.round(
          [0, 1, 2].reduce<number>((sum, a) => sum + (point[a]! - origin[a]!) * direction[3 * axis + a]!, 0) /
            spacing[axis]!,
        ),
      ) as [number, number, number];
      if ([i, j, k].every((n, axis) => n >= 0 && n < dimensions[axis]!)) voxels.setAtIJK(i, j, k, 1);
    }
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(segmentationId);
    draw();
  };

  /**
   * Moves a viewport's camera so that `point`, moved onto the nearest slice of the pane's volume, is its focal
   * point (same view direction and zoom): the pane shows an acquired slice, not one interpolated between two,
   * and a caliper drawn there lies on that slice's image.
   */
  function centre(name: ViewportName, point: number[]): void {
    const viewport = engine.getViewport(name);
    const camera = viewport.getCamera();
    const focal = camera.focalPoint!;
    const target = onNearestSlice(
      cache.getVolume(name === 'prior' ? priorVolumeId : volumeId),
      point,
      camera.viewPlaneNormal!,
    );
    const delta = [0, 1, 2].map((a) => target[a]! - focal[a]!);
    viewport.setCamera({
      focalPoint: target,
      position: camera.position!.map((p, a) => p + delta[a]!) as Types.Point3,
    });
  }
  const jumpTo = (point: number[]) => {
    for (const plane of PLANES) centre(plane, point);
    draw();
  };
  const jumpPriorTo = (point: number[]) => {
    priorFocus = point;
    if (!priorShown) return;
    centre('prior', point);
    draw();
  };

  /** Undoes what the pick or caliper under way set up (its listeners); undefined when none is. */
  let stopPending: (() => void) | undefined;
  const stopTools = () => {
    stopPending?.();
    stopPending = undefined;
    annotation.state.removeAllAnnotations();
    navigate();
    draw();
  };

  const pickPoint = () =>
    new Promise<[number, number, number]>((resolve) => {
      stopTools();
      tools.setToolDisabled(WINDOW_LEVEL);
      const handlers = PLANES.map((plane) => {
        const handler = (event: MouseEvent) => {
          if (event.button !== 0) return;
          const rect = elements[plane].getBoundingClientRect();
          const world = engine
            .getViewport(plane)
            .canvasToWorld([event.clientX - rect.left, event.clientY - rect.top]);
          stopTools();
          resolve(world);
        };
        elements[plane].addEventListener('click', handler);
        return { plane, handler };
      });
      stopPending = () =>
        handlers.forEach(({ plane, handler }) => elements[plane].removeEventListener('click', handler));
    });

  const measure = (onCaliper: (caliper: Caliper) => void) => {
    stopTools();
    // One tool per button: window/level gives the left button up to the caliper while it is drawn.
    tools.setToolPassive(WINDOW_LEVEL);
    tools.setToolActive(CALIPER, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    const changed = (event: Event) => {
      const drawn = (event as CustomEvent<{ annotation: ToolTypes.Annotation }>).detail.annotation;
      if (drawn.metadata?.toolName !== CALIPER) return;
      const points = drawn.data.handles?.points;
      if (!points || points.length < 4) return;
      const [a, b, c, d] = points as [Types.Point3, Types.Point3, Types.Point3, Types.Point3];
      const long = distanceMm(a, b);
      const short = distanceMm(c, d);
      const ends = (p: Types.Point3, q: Types.Point3): CaliperAxes['long'] => [
        [p[0], p[1], p[2]],
        [q[0], q[1], q[2]],
      ];
      if (event.type === String(ToolEnums.Events.ANNOTATION_COMPLETED)) {
        // Drawn: the left button returns to window/level; the caliper's handles can still be moved.
        navigate();
        draw();
      }
      onCaliper(
        long >= short
          ? { longAxisMm: long, shortAxisMm: short, axesLps: { long: ends(a, b), short: ends(c, d) } }
          : { longAxisMm: short, shortAxisMm: long, axesLps: { long: ends(c, d), short: ends(a, b) } },
      );
    };
    const events = [ToolEnums.Events.ANNOTATION_COMPLETED, ToolEnums.Events.ANNOTATION_MODIFIED];
    for (const name of events) eventTarget.addEventListener(name, changed);
    stopPending = () => {
      for (const name of events) eventTarget.removeEventListener(name, changed);
    };
  };

  return {
    loaded,
    jumpTo,
    jumpPriorTo,
    setWindow(next) {
      preset = next;
      applyWindow();
    },
    scroll(delta) {
      utilities.scroll(engine.getViewport('axial'), { delta });
    },
    position(name) {
      if (name === 'prior' && !priorShown) return undefined;
      const viewport = engine.getViewport(name);
      return { index: viewport.getSliceIndex() + 1, count: viewport.getNumberOfSlices() };
    },
    outline,
    pickPoint,
    measure,
    stopTools,
    onChange(listener) {
      listeners.push(listener);
    },
    destroy() {
      segmentation.removeSegmentation(segmentationId);
      ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
      engine.destroy();
      cache.removeVolumeLoadObject(segmentationId);
    },
  };
}

/**
 * `point` (LPS mm) moved along the volume axis nearest to a view's normal onto the centre of the nearest
 * slice across that axis; unchanged when the volume is not there yet.
 */
function onNearestSlice(
  volume: Types.IImageVolume | undefined,
  point: number[],
  normal: Types.Point3,
): Types.Point3 {
  const target = [point[0] ?? 0, point[1] ?? 0, point[2] ?? 0] as Types.Point3;
  if (!volume) return target;
  const { origin, direction, spacing, dimensions } = volume;
  const axisOf = (a: number) => [direction[3 * a]!, direction[3 * a + 1]!, direction[3 * a + 2]!];
  const along = (u: number[], v: number[]) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  const axis = [0, 1, 2].reduce((best, a) =>
    Math.abs(along(axisOf(a), normal)) > Math.abs(along(axisOf(best), normal)) ? a : best,
  );
  const u = axisOf(axis);
  const offset = along(
    [0, 1, 2].map((a) => target[a]! - origin[a]!),
    u,
  );
  const slice = Math.min(Math.max(Math.round(offset / spacing[axis]!), 0), dimensions[axis]! - 1);
  const shift = slice * spacing[axis]! - offset;
  return target.map((v, a) => v + shift * u[a]!) as Types.Point3;
}
