/* Built (as C, syntax only) on every build of vtl_tcmu: fails if uapi_layout.h and the installed
 * <linux/target_core_user.h> ever disagree. */
#include <stddef.h>
#include <linux/target_core_user.h>

#include "uapi_layout.h"

#define SAME(a, b) _Static_assert((long)(a) == (long)(b), #a " != " #b)

SAME(offsetof(struct tcmu_mailbox, version), VTL_TCMU_MB_VERSION);
SAME(offsetof(struct tcmu_mailbox, flags), VTL_TCMU_MB_FLAGS);
SAME(offsetof(struct tcmu_mailbox, cmdr_off), VTL_TCMU_MB_CMDR_OFF);
SAME(offsetof(struct tcmu_mailbox, cmdr_size), VTL_TCMU_MB_CMDR_SIZE);
SAME(offsetof(struct tcmu_mailbox, cmd_head), VTL_TCMU_MB_CMD_HEAD);
SAME(offsetof(struct tcmu_mailbox, cmd_tail), VTL_TCMU_MB_CMD_TAIL);
SAME(sizeof(struct tcmu_mailbox), VTL_TCMU_MB_SIZE);

SAME(offsetof(struct tcmu_cmd_entry_hdr, len_op), VTL_TCMU_HDR_LEN_OP);
SAME(offsetof(struct tcmu_cmd_entry_hdr, cmd_id), VTL_TCMU_HDR_CMD_ID);
SAME(offsetof(struct tcmu_cmd_entry_hdr, kflags), VTL_TCMU_HDR_KFLAGS);
SAME(offsetof(struct tcmu_cmd_entry_hdr, uflags), VTL_TCMU_HDR_UFLAGS);
SAME(sizeof(struct tcmu_cmd_entry_hdr), VTL_TCMU_HDR_SIZE);

SAME(offsetof(struct tcmu_cmd_entry, req.iov_cnt), VTL_TCMU_REQ_IOV_CNT);
SAME(offsetof(struct tcmu_cmd_entry, req.iov_bidi_cnt), VTL_TCMU_REQ_IOV_BIDI_CNT);
SAME(offsetof(struct tcmu_cmd_entry, req.iov_dif_cnt), VTL_TCMU_REQ_IOV_DIF_CNT);
SAME(offsetof(struct tcmu_cmd_entry, req.cdb_off), VTL_TCMU_REQ_CDB_OFF);
SAME(offsetof(struct tcmu_cmd_entry, req.iov), VTL_TCMU_REQ_IOV);
SAME(offsetof(struct tcmu_cmd_entry, rsp.scsi_status), VTL_TCMU_RSP_SCSI_STATUS);
SAME(offsetof(struct tcmu_cmd_entry, rsp.read_len), VTL_TCMU_RSP_READ_LEN);
SAME(offsetof(struct tcmu_cmd_entry, rsp.sense_buffer), VTL_TCMU_RSP_SENSE);
SAME(sizeof(struct tcmu_cmd_entry), VTL_TCMU_CMD_ENTRY_SIZE);

SAME(offsetof(struct iovec, iov_base), VTL_TCMU_IOV_BASE);
SAME(offsetof(struct iovec, iov_len), VTL_TCMU_IOV_LEN);
SAME(sizeof(struct iovec), VTL_TCMU_IOV_SIZE);

SAME(offsetof(struct tcmu_tmr_entry, tmr_type), VTL_TCMU_TMR_TYPE);
SAME(offsetof(struct tcmu_tmr_entry, cmd_cnt), VTL_TCMU_TMR_CMD_CNT);
SAME(offsetof(struct tcmu_tmr_entry, cmd_ids), VTL_TCMU_TMR_CMD_IDS);
SAME(sizeof(struct tcmu_tmr_entry), VTL_TCMU_TMR_ENTRY_SIZE);

SAME(TCMU_SENSE_BUFFERSIZE, VTL_TCMU_SENSE_BUFFERSIZE);
SAME(TCMU_OP_ALIGN_SIZE, VTL_TCMU_OP_ALIGN_SIZE);
SAME(TCMU_OP_MASK, VTL_TCMU_OP_MASK);
SAME(TCMU_OP_PAD, VTL_TCMU_OP_PAD);
SAME(TCMU_OP_CMD, VTL_TCMU_OP_CMD);
SAME(TCMU_OP_TMR, VTL_TCMU_OP_TMR);
SAME(TCMU_UFLAG_UNKNOWN_OP, VTL_TCMU_UFLAG_UNKNOWN_OP);
SAME(TCMU_UFLAG_READ_LEN, VTL_TCMU_UFLAG_READ_LEN);
SAME(TCMU_UFLAG_KEEP_BUF, VTL_TCMU_UFLAG_KEEP_BUF);
SAME(TCMU_MAILBOX_VERSION, VTL_TCMU_MAILBOX_VERSION);
SAME(TCMU_MAILBOX_FLAG_CAP_OOOC, VTL_TCMU_CAP_OOOC);
SAME(TCMU_MAILBOX_FLAG_CAP_READ_LEN, VTL_TCMU_CAP_READ_LEN);
SAME(TCMU_MAILBOX_FLAG_CAP_TMR, VTL_TCMU_CAP_TMR);
SAME(TCMU_MAILBOX_FLAG_CAP_KEEP_BUF, VTL_TCMU_CAP_KEEP_BUF);
SAME(TCMU_TMR_UNKNOWN, VTL_TCMU_TMR_UNKNOWN);
SAME(TCMU_TMR_ABORT_TASK, VTL_TCMU_TMR_ABORT_TASK);
SAME(TCMU_TMR_ABORT_TASK_SET, VTL_TCMU_TMR_ABORT_TASK_SET);
SAME(TCMU_TMR_CLEAR_ACA, VTL_TCMU_TMR_CLEAR_ACA);
SAME(TCMU_TMR_CLEAR_TASK_SET, VTL_TCMU_TMR_CLEAR_TASK_SET);
SAME(TCMU_TMR_LUN_RESET, VTL_TCMU_TMR_LUN_RESET);
SAME(TCMU_TMR_TARGET_WARM_RESET, VTL_TCMU_TMR_TARGET_WARM_RESET);
SAME(TCMU_TMR_TARGET_COLD_RESET, VTL_TCMU_TMR_TARGET_COLD_RESET);
SAME(TCMU_TMR_LUN_RESET_PRO, VTL_TCMU_TMR_LUN_RESET_PRO);
