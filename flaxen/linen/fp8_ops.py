"""flaxen.linen.fp8_ops: FP8 quantization, its custom gradients and the FP8 dot modules.

This file only re-exports; see ``flaxen._src.linen.fp8``.
"""

from jax import custom_jvp as custom_jvp
from jax import custom_vjp as custom_vjp
from jax.typing import DTypeLike as DTypeLike

from flaxen._src.linen.fp8.layers import OVERWRITE_WITH_GRADIENT as OVERWRITE_WITH_GRADIENT
from flaxen._src.linen.fp8.layers import Fp8DirectDotGeneralOp as Fp8DirectDotGeneralOp
from flaxen._src.linen.fp8.layers import Fp8DotGeneral as Fp8DotGeneral
from flaxen._src.linen.fp8.layers import Fp8DotGeneralBase as Fp8DotGeneralBase
from flaxen._src.linen.fp8.layers import Fp8DotGeneralOp as Fp8DotGeneralOp
from flaxen._src.linen.fp8.layers import Fp8Einsum as Fp8Einsum
from flaxen._src.linen.fp8.layers import NANOOFp8DotGeneralOp as NANOOFp8DotGeneralOp
from flaxen._src.linen.fp8.meta_dtype import CAN_USE_EARRAY as CAN_USE_EARRAY
from flaxen._src.linen.fp8.meta_dtype import Fp8MetaTyRules as Fp8MetaTyRules
from flaxen._src.linen.fp8.meta_dtype import fm32 as fm32
from flaxen._src.linen.fp8.meta_dtype import fp8_meta_dtype as fp8_meta_dtype
from flaxen._src.linen.fp8.meta_dtype import fp8_meta_dtype_wrapper as fp8_meta_dtype_wrapper
from flaxen._src.linen.fp8.meta_dtype import fp32_max_grad as fp32_max_grad
from flaxen._src.linen.fp8.qdq_ops import dot_general_transpose_lhs as dot_general_transpose_lhs
from flaxen._src.linen.fp8.qdq_ops import dot_general_transpose_rhs as dot_general_transpose_rhs
from flaxen._src.linen.fp8.qdq_ops import (
  dot_general_with_precision as dot_general_with_precision,
)
from flaxen._src.linen.fp8.qdq_ops import (
  dot_general_with_precision_jvp as dot_general_with_precision_jvp,
)
from flaxen._src.linen.fp8.qdq_ops import fp8_scaled_dot_general as fp8_scaled_dot_general
from flaxen._src.linen.fp8.qdq_ops import in_q as in_q
from flaxen._src.linen.fp8.qdq_ops import in_q_bwd as in_q_bwd
from flaxen._src.linen.fp8.qdq_ops import in_q_fwd as in_q_fwd
from flaxen._src.linen.fp8.qdq_ops import in_qdq as in_qdq
from flaxen._src.linen.fp8.qdq_ops import in_qdq_bwd as in_qdq_bwd
from flaxen._src.linen.fp8.qdq_ops import in_qdq_fwd as in_qdq_fwd
from flaxen._src.linen.fp8.qdq_ops import out_dq as out_dq
from flaxen._src.linen.fp8.qdq_ops import out_dq_bwd as out_dq_bwd
from flaxen._src.linen.fp8.qdq_ops import out_dq_fwd as out_dq_fwd
from flaxen._src.linen.fp8.qdq_ops import out_qdq as out_qdq
from flaxen._src.linen.fp8.qdq_ops import out_qdq_bwd as out_qdq_bwd
from flaxen._src.linen.fp8.qdq_ops import out_qdq_fwd as out_qdq_fwd
from flaxen._src.linen.fp8.qdq_ops import quantized_dot as quantized_dot
from flaxen._src.linen.fp8.qdq_ops import quantized_dot_bwd as quantized_dot_bwd
from flaxen._src.linen.fp8.qdq_ops import quantized_dot_fwd as quantized_dot_fwd
from flaxen._src.linen.fp8.quantize import compute_amax_history as compute_amax_history
from flaxen._src.linen.fp8.quantize import compute_scale as compute_scale
from flaxen._src.linen.fp8.quantize import dequantize as dequantize
from flaxen._src.linen.fp8.quantize import get_fp8_max as get_fp8_max
from flaxen._src.linen.fp8.quantize import qdq as qdq
from flaxen._src.linen.fp8.quantize import quantize as quantize
from flaxen._src.linen.fp8.quantize import quantize_dequantize_update as quantize_dequantize_update
from flaxen._src.linen.fp8.quantize import update_fp8_meta as update_fp8_meta
from flaxen._src.typing import Dtype as DType
from flaxen.linen import initializers as initializers
from flaxen.linen import module as module
