/* Byte offsets and values of the TCMU ring ABI, as <linux/target_core_user.h> defines it. That
 * header cannot be included from C++ (its inline helpers convert int to enum implicitly), so the
 * ring code reads the shared memory through these offsets, and uapi_layout_check.c (compiled as C
 * against the installed header on every build) proves each one. Valid C and C++. */
#ifndef VTL_TCMU_UAPI_LAYOUT_H
#define VTL_TCMU_UAPI_LAYOUT_H

enum vtl_tcmu_layout {
    /* struct tcmu_mailbox */
    VTL_TCMU_MB_VERSION = 0,   /* __u16 */
    VTL_TCMU_MB_FLAGS = 2,     /* __u16 */
    VTL_TCMU_MB_CMDR_OFF = 4,  /* __u32 */
    VTL_TCMU_MB_CMDR_SIZE = 8, /* __u32 */
    VTL_TCMU_MB_CMD_HEAD = 12, /* __u32, written by the kernel */
    VTL_TCMU_MB_CMD_TAIL = 64, /* __u32, written by us, on its own cache line */
    VTL_TCMU_MB_SIZE = 128,

    /* struct tcmu_cmd_entry_hdr */
    VTL_TCMU_HDR_LEN_OP = 0, /* __u32: length (multiple of 8) | opcode in the low 3 bits */
    VTL_TCMU_HDR_CMD_ID = 4, /* __u16 */
    VTL_TCMU_HDR_KFLAGS = 6, /* __u8 */
    VTL_TCMU_HDR_UFLAGS = 7, /* __u8 */
    VTL_TCMU_HDR_SIZE = 8,

    /* struct tcmu_cmd_entry: req (kernel to us) */
    VTL_TCMU_REQ_IOV_CNT = 8,       /* __u32 */
    VTL_TCMU_REQ_IOV_BIDI_CNT = 12, /* __u32 */
    VTL_TCMU_REQ_IOV_DIF_CNT = 16,  /* __u32 */
    VTL_TCMU_REQ_CDB_OFF = 24,      /* __u64, from the start of the mailbox */
    VTL_TCMU_REQ_IOV = 48,          /* struct iovec[]: base (offset from the mailbox), length */
    /* struct tcmu_cmd_entry: rsp (us to kernel), over the same bytes */
    VTL_TCMU_RSP_SCSI_STATUS = 8, /* __u8 */
    VTL_TCMU_RSP_READ_LEN = 12,   /* __u32 */
    VTL_TCMU_RSP_SENSE = 16,      /* char[96] */
    VTL_TCMU_CMD_ENTRY_SIZE = 112,

    /* struct iovec */
    VTL_TCMU_IOV_BASE = 0, /* 64-bit */
    VTL_TCMU_IOV_LEN = 8,  /* 64-bit */
    VTL_TCMU_IOV_SIZE = 16,

    /* struct tcmu_tmr_entry */
    VTL_TCMU_TMR_TYPE = 8,     /* __u8 */
    VTL_TCMU_TMR_CMD_CNT = 12, /* __u32 */
    VTL_TCMU_TMR_CMD_IDS = 32, /* __u16[] */
    VTL_TCMU_TMR_ENTRY_SIZE = 32,

    VTL_TCMU_SENSE_BUFFERSIZE = 96,
    VTL_TCMU_OP_ALIGN_SIZE = 8,
    VTL_TCMU_OP_MASK = 0x7,
    VTL_TCMU_OP_PAD = 0,
    VTL_TCMU_OP_CMD = 1,
    VTL_TCMU_OP_TMR = 2,

    VTL_TCMU_UFLAG_UNKNOWN_OP = 0x1,
    VTL_TCMU_UFLAG_READ_LEN = 0x2,
    VTL_TCMU_UFLAG_KEEP_BUF = 0x4,

    VTL_TCMU_MAILBOX_VERSION = 2,
    VTL_TCMU_CAP_OOOC = 0x1,
    VTL_TCMU_CAP_READ_LEN = 0x2,
    VTL_TCMU_CAP_TMR = 0x4,
    VTL_TCMU_CAP_KEEP_BUF = 0x8,

    VTL_TCMU_TMR_UNKNOWN = 0,
    VTL_TCMU_TMR_ABORT_TASK = 1,
    VTL_TCMU_TMR_ABORT_TASK_SET = 2,
    VTL_TCMU_TMR_CLEAR_ACA = 3,
    VTL_TCMU_TMR_CLEAR_TASK_SET = 4,
    VTL_TCMU_TMR_LUN_RESET = 5,
    VTL_TCMU_TMR_TARGET_WARM_RESET = 6,
    VTL_TCMU_TMR_TARGET_COLD_RESET = 7,
    VTL_TCMU_TMR_LUN_RESET_PRO = 128
};

#endif
