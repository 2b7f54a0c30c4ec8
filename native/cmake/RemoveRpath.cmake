# cmake -DFILE=<addon> -P native/cmake/RemoveRpath.cmake: drops the build machine's RPATH/RUNPATH from a
# built addon (scripts/prebuild.sh), so a prebuilt one finds libtorch only as the loader hands it over.
file(RPATH_REMOVE FILE "${FILE}")
