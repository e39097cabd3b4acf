// ILGPU's CPU simulator runs kernels through a generated assembly ("ILGPURuntime"); the update
// kernels take the internal AdamScalars struct as a parameter, so that assembly must see it.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]
