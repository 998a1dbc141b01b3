/**
 * The composition root: one tsyringe container per simulated machine, mapping
 * the seams (architecture, frame allocator, filesystem types, tracer, kernel
 * configuration) to this machine's choices, resolved once when the machine is
 * built — never on a hot path.
 */

import 'reflect-metadata';
import { container, inject, injectable, type DependencyContainer } from 'tsyringe';
import { ARCH, FILESYSTEM_TYPES, FRAME_ALLOCATOR, KERNEL_CONFIG, NOOP_TRACER, TRACER, type Tracer } from '@mmsim/base';
import type { Architecture } from '@mmsim/arch';
import { x86_64 } from '@mmsim/arch/x86-64';
import {
  buddyAllocatorFactory,
  DEFAULT_KERNEL_CONFIG,
  MmKernel,
  MmStruct,
  type FrameAllocator,
  type FrameAllocatorFactory,
  type KernelConfig,
} from '@mmsim/mm-core';
import { FdTable, Vfs, type FileSystemType } from '@mmsim/fs';
import type { Task } from '@mmsim/syscalls';

/** What a machine is built from; everything has a default. */
export interface MachineOptions {
  /** Kernel parameters (merged over {@link DEFAULT_KERNEL_CONFIG}). */
  readonly config?: Partial<KernelConfig>;
  /** The architecture plug-in (default: x86-64). */
  readonly arch?: Architecture;
  /** How to build the frame allocator (default: the buddy allocator). */
  readonly frameAllocator?: FrameAllocatorFactory;
  /** Extra filesystem types to register (tmpfs and hugetlbfs are built in). */
  readonly filesystems?: readonly FileSystemType[];
  /** The tracer (default: no-op). */
  readonly tracer?: Tracer;
}

/** A simulated machine with one process. */
@injectable()
export class Machine implements Task {
  readonly kernel: MmKernel;
  readonly vfs: Vfs;
  readonly mm: MmStruct;
  readonly files = new FdTable();

  constructor(
    @inject(ARCH) readonly arch: Architecture,
    @inject(KERNEL_CONFIG) readonly config: KernelConfig,
    @inject(FRAME_ALLOCATOR) readonly frames: FrameAllocator,
    @inject(TRACER) readonly tracer: Tracer,
    @inject(FILESYSTEM_TYPES) filesystems: FileSystemType[],
  ) {
    this.kernel = new MmKernel(arch, config, frames, tracer);
    this.vfs = new Vfs(this.kernel, filesystems);
    this.mm = new MmStruct(this.kernel, {
      rlimitStack: config.rlimitStack,
      rlimitAs: config.rlimitAs,
      rlimitData: config.rlimitData,
      rlimitMemlock: config.rlimitMemlock,
      privileged: config.privileged,
    });
    this.vfs.mappings.add(this.mm);
  }
}

/** Build the container for one machine: every seam registered, nothing shared with other machines. */
export function machineContainer(options: MachineOptions = {}): DependencyContainer {
  const c = container.createChildContainer();
  const config: KernelConfig = { ...DEFAULT_KERNEL_CONFIG, ...options.config };
  const arch = options.arch ?? x86_64;
  const factory = options.frameAllocator ?? buddyAllocatorFactory;
  const totalFrames = Math.floor((config.memTotalKb * 1024) / (1 << arch.pageShift));
  c.register(KERNEL_CONFIG, { useValue: config });
  c.register(ARCH, { useValue: arch });
  c.register(FRAME_ALLOCATOR, { useValue: factory({ totalFrames }) });
  c.register(TRACER, { useValue: options.tracer ?? NOOP_TRACER });
  c.register(FILESYSTEM_TYPES, { useValue: [...(options.filesystems ?? [])] });
  c.registerSingleton(Machine);
  return c;
}

/** Build a machine with defaults for whatever `options` leaves out. */
export function createMachine(options: MachineOptions = {}): Machine {
  return machineContainer(options).resolve(Machine);
}
