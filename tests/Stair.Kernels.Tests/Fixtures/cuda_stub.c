// A stand-in for the NVIDIA driver: one device of compute capability 9.0 on driver 13.0. It logs
// every call to the file named by STAIR_CUDA_STUB_LOG, so a test can see who reached the driver.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
static void note(const char* f) { const char* p = getenv("STAIR_CUDA_STUB_LOG"); if (!p) return; FILE* o = fopen(p, "a"); if (o) { fprintf(o, "%s\n", f); fclose(o); } }
int cuInit(unsigned flags) { note("cuInit"); return 0; }
int cuDriverGetVersion(int* v) { note("cuDriverGetVersion"); *v = 13000; return 0; }
int cuDeviceGetCount(int* n) { note("cuDeviceGetCount"); *n = 1; return 0; }
int cuDeviceGet(int* d, int ordinal) { note("cuDeviceGet"); *d = ordinal; return ordinal == 0 ? 0 : 101; }
int cuDeviceGetName(char* name, int len, int d) { note("cuDeviceGetName"); strncpy(name, "Stub H200", len); return 0; }
int cuDeviceTotalMem_v2(size_t* bytes, int d) { note("cuDeviceTotalMem_v2"); *bytes = (size_t)141 << 30; return 0; }
int cuDeviceGetAttribute(int* value, int attribute, int d) {
  note("cuDeviceGetAttribute");
  switch (attribute) {
    case 75: *value = 9; break;   // compute capability major
    case 76: *value = 0; break;   // minor
    case 10: *value = 32; break;  // warp size
    case 1: case 39: *value = 1024; break; // threads per block / per multiprocessor
    case 16: *value = 132; break; // multiprocessors
    case 2: case 3: case 5: case 6: *value = 1024; break;
    case 4: *value = 65535; break;
    case 8: case 81: case 97: *value = 49152; break;
    default: *value = 1; break;
  }
  return 0;
}
int cuGetErrorName(int error, const char** name) { *name = error == 0 ? "CUDA_SUCCESS" : "CUDA_ERROR_STUB"; return 0; }
