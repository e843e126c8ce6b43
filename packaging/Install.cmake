# Installation layout and the Debian package (issue 9; docs/install.md). With the default prefix
# /usr: vtld in /usr/sbin, vtlctl and vtl-move in /usr/bin (their install() rules are in
# handler/), the default config /etc/vtl/vtl.toml, state in /var/lib/vtl, the systemd units and
# scripts/lio as /usr/libexec/vtl/vtl-lio. `cpack -G DEB` in the build tree makes the .deb.
# A system daemon: /usr unless the first configure named another prefix (units and the
# package take their paths from it at configure time).
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
    set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
include(GNUInstallDirs)

# `cmake --install` and cpack install what vtl_dist builds, not everything (tests, benchmarks):
#   cmake --build <tree> --target vtl_dist && cd <tree> && cpack
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(VTL_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(VTL_LIBEXECDIR ${CMAKE_INSTALL_FULL_LIBEXECDIR}/vtl)
set(VTL_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING "systemd system units, relative to the prefix")

# /etc/vtl/vtl.toml: the built-in default library (what `scripts/run` serves), written by the
# vtld just built so the file can never drift from the code.
set(VTL_DEFAULT_CONFIG ${CMAKE_CURRENT_BINARY_DIR}/packaging/vtl.toml)
add_custom_command(
    OUTPUT ${VTL_DEFAULT_CONFIG}
    COMMAND ${CMAKE_COMMAND} -DVTLD=$<TARGET_FILE:vtld> -DOUT=${VTL_DEFAULT_CONFIG} -P
            ${VTL_PACKAGING_DIR}/print-default-config.cmake
    DEPENDS vtld ${VTL_PACKAGING_DIR}/print-default-config.cmake
    COMMENT "Writing the default /etc/vtl/vtl.toml"
    VERBATIM)
add_custom_target(vtl_default_config ALL DEPENDS ${VTL_DEFAULT_CONFIG})
add_custom_target(vtl_dist DEPENDS vtld vtlctl vtl-move vtl_default_config)

# Units name the installed paths.
foreach(unit vtld.service vtl-lio.service)
    configure_file(${VTL_PACKAGING_DIR}/systemd/${unit}.in ${CMAKE_CURRENT_BINARY_DIR}/packaging/${unit} @ONLY)
    install(FILES ${CMAKE_CURRENT_BINARY_DIR}/packaging/${unit} DESTINATION ${VTL_SYSTEMD_UNIT_DIR})
endforeach()

# FULL: with the prefix /usr these are /etc and /var (GNUInstallDirs' special case), also in a
# tree first configured with another prefix.
install(FILES ${VTL_DEFAULT_CONFIG} DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/vtl)
install(FILES ${VTL_PACKAGING_DIR}/vtl.default DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default RENAME vtl)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/lio DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/vtl RENAME vtl-lio)
install(DIRECTORY DESTINATION ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/vtl)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/install.md ${PROJECT_SOURCE_DIR}/docs/vtlctl.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package: library dependencies from dpkg-shlibdeps, plus what vtl-lio runs.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vtl)
set(CPACK_PACKAGE_VENDOR "vtl")
set(CPACK_PACKAGE_CONTACT "vtl maintainers <vtl@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "virtual tape library (LTO drives and SCSI medium changer) for Linux LIO")
set(CPACK_PACKAGE_DESCRIPTION "vtld emulates SCSI tape libraries (SMC changer, SSC LTO drives) and serves \
them to the Linux kernel through LIO TCMU user backstores; vtlctl manages it, vtl-move drives asynchronous moves.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "bash, jq, kmod")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "targetcli-fb, sg3-utils, mtx, mt-st, lsscsi")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${VTL_PACKAGING_DIR}/debian/conffiles ${VTL_PACKAGING_DIR}/debian/postinst
                                       ${VTL_PACKAGING_DIR}/debian/prerm ${VTL_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
