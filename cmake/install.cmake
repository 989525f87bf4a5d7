# Install rules and the Debian package.
#   cmake --install build [--prefix P]   bin/cnnkit, share/cnnkit/configs, share/doc/cnnkit,
#                                        share/man/man1/cnnkit.1.gz, bash completion
#   scripts/package.sh                   build/cnnkit_<version>_amd64.deb (CPack)
# The man page and the completion script are generated from the built binary's own
# definitions (help2man on --help; `cnnkit completion bash`), never written by hand.

# The binary keeps the run path to a LibTorch outside the system folders (e.g. an official
# LibTorch 2.x); Debian's libraries need none.
set_target_properties(cnnkit PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)

set(CNNKIT_GENERATED ${CMAKE_CURRENT_BINARY_DIR}/generated)
set(CNNKIT_GENERATED_FILES ${CNNKIT_GENERATED}/completion/cnnkit)
add_custom_command(
  OUTPUT ${CNNKIT_GENERATED}/completion/cnnkit
  COMMAND ${CMAKE_COMMAND} -DOUT=${CNNKIT_GENERATED}/completion/cnnkit -P
          ${CMAKE_CURRENT_SOURCE_DIR}/cmake/run_to_file.cmake -- $<TARGET_FILE:cnnkit> completion bash
  DEPENDS cnnkit ${CMAKE_CURRENT_SOURCE_DIR}/cmake/run_to_file.cmake
  COMMENT "Generating the bash completion from cnnkit's options"
  VERBATIM)

find_program(CNNKIT_HELP2MAN help2man)
find_program(CNNKIT_GZIP gzip)
if(CNNKIT_HELP2MAN AND CNNKIT_GZIP)
  add_custom_command(
    OUTPUT ${CNNKIT_GENERATED}/cnnkit.1.gz
    COMMAND ${CNNKIT_HELP2MAN} --no-info --section=1
            "--name=train and inspect convolutional networks described in JSON configs"
            --include=${CMAKE_CURRENT_SOURCE_DIR}/docs/cnnkit.h2m --output=${CNNKIT_GENERATED}/cnnkit.1
            $<TARGET_FILE:cnnkit>
    COMMAND ${CNNKIT_GZIP} -9nf ${CNNKIT_GENERATED}/cnnkit.1
    DEPENDS cnnkit ${CMAKE_CURRENT_SOURCE_DIR}/docs/cnnkit.h2m
    COMMENT "Generating the man page from cnnkit --help (help2man)"
    VERBATIM)
  list(APPEND CNNKIT_GENERATED_FILES ${CNNKIT_GENERATED}/cnnkit.1.gz)
else()
  message(STATUS "cnnkit: help2man or gzip not found: no man page (scripts/install-deps.sh installs help2man)")
endif()
add_custom_target(cnnkit_generated ALL DEPENDS ${CNNKIT_GENERATED_FILES})

install(TARGETS cnnkit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cnnkit/configs
        FILES_MATCHING PATTERN "*.json")
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md" PATTERN "*.png" PATTERN "*.svg")
install(FILES ${CNNKIT_GENERATED}/completion/cnnkit DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
if(CNNKIT_HELP2MAN AND CNNKIT_GZIP)
  install(FILES ${CNNKIT_GENERATED}/cnnkit.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# ---- Debian package (scripts/package.sh). dpkg-shlibdeps turns the libraries the binary links
# (LibTorch, OpenCV, spdlog, fmt, zlib, ...) into the Debian packages that ship them; OpenBLAS is
# not linked (LibTorch reaches it through libblas.so.3) but is what makes Linear layers fast.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cnnkit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "cnnkit")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "train and inspect convolutional networks described in JSON configs")
set(CPACK_PACKAGE_DESCRIPTION
    "cnnkit describes a CNN in a JSON config, prints a Keras-style summary of it, trains it on MNIST, CIFAR-10 or "
    "image folders with LibTorch (CPU or CUDA), evaluates it, classifies images and writes the feature maps of any "
    "layer. Shipped configs are in /usr/share/cnnkit/configs (cnnkit configs lists them).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # cnnkit_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "cnnkit developers <cnnkit@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-openmp | libopenblas0")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion")
# `cnnkit export --format onnx` converts through python3 with torch, and checks with onnx.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-torch, python3-onnx")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_STRIP_FILES ON)
include(CPack)
