/// The reference allocator model (see docs/model.md).
public enum KernelModelInfo {}
