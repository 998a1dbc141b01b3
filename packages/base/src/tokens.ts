/**
 * Dependency-injection tokens shared by every layer. One tsyringe container
 * per simulated machine maps each token to that machine's instance; the
 * container is consulted only while a machine is built, never on a hot path.
 */

import type { InjectionToken } from 'tsyringe';

/** The architecture plug-in (`Architecture` from `@mmsim/arch`). */
export const ARCH: InjectionToken<unknown> = Symbol.for('mmsim.arch');
/** The physical frame allocator (`FrameAllocator` from `@mmsim/mm-core`). */
export const FRAME_ALLOCATOR: InjectionToken<unknown> = Symbol.for('mmsim.frameAllocator');
/** The registered filesystem types (`FileSystemType[]` from `@mmsim/fs`). */
export const FILESYSTEM_TYPES: InjectionToken<unknown> = Symbol.for('mmsim.filesystemTypes');
/** The tracer (`Tracer`). */
export const TRACER: InjectionToken<unknown> = Symbol.for('mmsim.tracer');
/** The machine's kernel parameters (`KernelConfig` from `@mmsim/mm-core`). */
export const KERNEL_CONFIG: InjectionToken<unknown> = Symbol.for('mmsim.kernelConfig');
