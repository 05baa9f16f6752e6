"""Tiny checkpoints of the real diffusers pipelines, built in code (no hub, no download).

Text encoders come from configs, tokenizers are `ByT5Tokenizer()` (byte level, no vocab file);
every module is seeded. Each builder writes a diffusers checkpoint with `save_pretrained`, which
the engines then load through the same `from_pretrained` path as a real checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def build_wan_vace(path: Path) -> Path:
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )
    from transformers import ByT5Tokenizer, UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    tokenizer = ByT5Tokenizer()
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
            relative_attention_num_buckets=8,
        )
    ).eval()  # fmt: skip
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )  # fmt: skip
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
        out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=3, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=32, vace_layers=[0, 2],
        vace_in_channels=96,
    )  # fmt: skip
    pipe: Any = WanVACEPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        transformer=transformer,
        transformer_2=None,
    )
    pipe.save_pretrained(path)
    return path


def build_ltx2(path: Path) -> Path:
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2ConditionPipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import (
        ByT5Tokenizer,
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    torch.manual_seed(0)
    tokenizer = ByT5Tokenizer()
    hidden = 32  # = video_connector_num_attention_heads * head_dim, or the connectors' norm fails
    text_encoder = Gemma3ForConditionalGeneration(
        Gemma3Config(
            text_config=Gemma3TextConfig(
                vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=64,
                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, head_dim=8,
                max_position_embeddings=512, sliding_window=64,
            ),
            vision_config=SiglipVisionConfig(
                hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                image_size=28, patch_size=14,
            ),
            mm_tokens_per_image=4, image_token_index=383, boi_token_index=382, eoi_token_index=381,
        )
    ).eval()  # fmt: skip
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2,
        attention_head_dim=8, cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4,
        audio_num_attention_heads=2, audio_attention_head_dim=4, audio_cross_attention_dim=8,
        num_layers=2, qk_norm="rms_norm_across_heads", caption_channels=hidden,
        rope_double_precision=False, rope_type="split",
    )  # fmt: skip
    connectors = LTX2TextConnectors(
        caption_channels=hidden, text_proj_in_factor=3, video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8, video_connector_num_layers=1,
        video_connector_num_learnable_registers=None, audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32,
        rope_theta=10000.0, rope_double_precision=False, causal_temporal_positioning=False,
        rope_type="split",
    )  # fmt: skip
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,),
        decoder_block_out_channels=(8,), layers_per_block=(1,), decoder_layers_per_block=(1, 1),
        spatio_temporal_scaling=(True,), decoder_spatio_temporal_scaling=(True,),
        decoder_inject_noise=(False, False), downsample_type=("spatial",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False,
        patch_size=1, patch_size_t=1, encoder_causal=True, decoder_causal=False,
    )  # fmt: skip
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1,), num_res_blocks=1, attn_resolutions=None,
        in_channels=2, resolution=32, latent_channels=2, norm_type="pixel",
        causality_axis="height", dropout=0.0, mid_block_add_attention=False, sample_rate=16000,
        mel_hop_length=160, is_causal=True, mel_bins=8,
    )  # fmt: skip
    vocoder = LTX2Vocoder(
        in_channels=2 * 8, hidden_channels=32, out_channels=2, upsample_kernel_sizes=[4, 4],
        upsample_factors=[2, 2], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1, output_sampling_rate=16000,
    )  # fmt: skip
    pipe: Any = LTX2ConditionPipeline(
        transformer=transformer,
        vae=vae,
        audio_vae=audio_vae,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        connectors=connectors,
        vocoder=vocoder,
    )
    pipe.save_pretrained(path)
    return path


def qwen_tokenizer() -> Any:
    """A byte-level BPE tokenizer trained in code, with Qwen's special tokens, as a
    Qwen2TokenizerFast (what MiniMax-H3's conditioner uses)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    special = [
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
        "<|image_pad|>", "<|video_pad|>",
    ]  # fmt: skip
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    corpus = ["<Picture 1>: a robot dances <Video 2>: <Audio 3>: <0.5 seconds> the end"] * 10
    bpe.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=300, special_tokens=special,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )  # fmt: skip
    return Qwen2TokenizerFast(
        tokenizer_object=bpe, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


H3_TEXT_DIM = 16


def build_minimax_h3(path: Path) -> Path:
    """A tiny MiniMax-H3 modular checkpoint: every component of the real pipeline at tiny size.

    The conditioner has 51 decoder layers (of width 16): MiniMax-H3 reads `hidden_states[50]`. The
    VAE compresses 16x spatially like the real one, so the canvas multiple stays 32; the pipeline
    config shrinks the canvas and reference rules to 32 px. The processor directory is written in
    the layout of transformers 5 (`processor_config.json` naming `Qwen2VLImageProcessor` and
    `Qwen3VLVideoProcessor`), so with a working torchvision it loads with the real classes.
    """
    import json

    from diffusers import (
        AutoencoderKLMiniMaxH3,
        AutoencoderKLMiniMaxH3Audio,
        MiniMaxH3Transformer3DModel,
    )
    from diffusers.modular_pipelines import MiniMaxH3Blocks
    from diffusers.schedulers.scheduling_minimax_h3 import MiniMaxH3Scheduler
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    from reelforge.engines.diffusion.qwen_vision import (
        NumpyQwen3VLVideoProcessor,
        build_slow_processor,
    )

    torch.manual_seed(0)
    tokenizer = qwen_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in
           ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")}  # fmt: skip
    text_encoder = Qwen3VLForConditionalGeneration(
        Qwen3VLConfig(
            text_config={
                "vocab_size": len(tokenizer), "hidden_size": H3_TEXT_DIM, "intermediate_size": 32,
                "num_hidden_layers": 51, "num_attention_heads": 2, "num_key_value_heads": 1,
                "head_dim": 8, "max_position_embeddings": 4096,
                "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                    "mrope_section": [2, 1, 1], "mrope_interleaved": True},
            },
            vision_config={
                "depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2,
                "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
                "out_hidden_size": H3_TEXT_DIM, "num_position_embeddings": 16,
                "deepstack_visual_indexes": [],
            },
            image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
            vision_start_token_id=ids["<|vision_start|>"],
            vision_end_token_id=ids["<|vision_end|>"],
        )
    ).eval()  # fmt: skip
    vae = AutoencoderKLMiniMaxH3(
        latent_channels=4, block_out_channels=(8, 8, 8, 8, 8), layers_per_block=1,
        spatial_downsample_factors=(2, 2, 2, 2, 1), temporal_downsample_factors=(1, 2, 2, 1, 1),
        norm_num_groups=4, decoder_num_layers=1, decoder_num_attention_heads=2,
        decoder_attention_head_dim=8, decoder_num_register_tokens=1, decoder_ffn_mult=1,
        latents_mean=(0.0,) * 4, latents_std=(1.0,) * 4,
    )  # fmt: skip
    audio_vae = AutoencoderKLMiniMaxH3Audio(
        encoder_dim=4, latent_dim=16, latent_channels=4, num_attention_heads=2, decoder_dim=128,
        resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1,),), latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    )  # fmt: skip

    def transformer() -> Any:
        return MiniMaxH3Transformer3DModel(
            num_attention_heads=2, attention_head_dim=16, hidden_size=24, num_layers=2,
            num_refiner_layers=2, ffn_dim=32, in_channels=4, audio_in_channels=4,
            patch_size=(1, 2, 2), text_dim=H3_TEXT_DIM, freq_dim=8, time_embed_hidden_dim=24,
            time_embed_dim=16, rope_freq_dim=2,
        )  # fmt: skip

    image_config = {
        "image_processor_type": "Qwen2VLImageProcessor", "patch_size": 16,
        "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5] * 3,
        "image_std": [0.5] * 3, "size": {"shortest_edge": 32 * 32, "longest_edge": 64 * 64},
    }  # fmt: skip
    video = NumpyQwen3VLVideoProcessor(size={"shortest_edge": 32 * 32, "longest_edge": 64 * 64 * 8})
    processor = build_slow_processor(tokenizer, image_config, video.to_dict())
    pipe: Any = MiniMaxH3Blocks().init_pipeline()
    pipe.update_components(
        text_encoder=text_encoder, tokenizer=tokenizer, vae=vae, audio_vae=audio_vae,
        scheduler=MiniMaxH3Scheduler(shift=12.0), audio_scheduler=MiniMaxH3Scheduler(shift=3.0),
        transformer=transformer(), transformer_ref=transformer(), processor=processor,
    )  # fmt: skip
    pipe.register_to_config(canvas_short_edge=32, canvas_max_pixels=64 * 64,
                            reference_image_short_edge=32)  # fmt: skip
    pipe.processor = None  # written by hand below (see the docstring)
    pipe.save_pretrained(str(path), overwrite_modular_index=True)
    proc_dir = path / "processor"
    tokenizer.save_pretrained(proc_dir)
    (proc_dir / "processor_config.json").write_text(
        json.dumps(
            {"processor_class": "Qwen3VLProcessor", "image_processor": image_config,
             "video_processor": video.to_dict()},
            indent=2,
        )
    )  # fmt: skip
    index_path = path / "modular_model_index.json"
    index = json.loads(index_path.read_text())
    spec = dict(index["tokenizer"][2])
    spec["subfolder"] = "processor"
    index["processor"] = ["transformers", "Qwen3VLProcessor", spec]
    index_path.write_text(json.dumps(index, indent=2))
    return path


def build_stable_audio(path: Path) -> Path:
    """A tiny StableAudioPipeline (text-to-audio for wan-vace): 8 kHz stereo, a 64x hop, at
    most 2 s."""
    from diffusers import (
        AutoencoderOobleck,
        EDMDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
    )
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

    torch.manual_seed(0)
    tokenizer = ByT5Tokenizer(model_max_length=32)
    text_encoder = T5EncoderModel(
        T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=8, d_ff=32, num_layers=1,
                 num_heads=2, relative_attention_num_buckets=8)
    ).eval()  # fmt: skip
    transformer = StableAudioDiTModel(
        sample_size=256, in_channels=4, num_layers=2, attention_head_dim=4,
        num_attention_heads=2, num_key_value_attention_heads=1, out_channels=4,
        cross_attention_dim=8, time_proj_dim=8, global_states_input_dim=16,
        cross_attention_input_dim=8,
    )  # fmt: skip
    vae = AutoencoderOobleck(
        encoder_hidden_size=4, downsampling_ratios=[8, 8], decoder_channels=4,
        decoder_input_channels=4, audio_channels=2, channel_multiples=[1, 2], sampling_rate=8000,
    )  # fmt: skip
    projection = StableAudioProjectionModel(
        text_encoder_dim=16, conditioning_dim=8, min_value=0, max_value=32
    )
    scheduler = EDMDPMSolverMultistepScheduler(
        solver_order=2, prediction_type="v_prediction", sigma_data=1.0,
        sigma_schedule="exponential",
    )  # fmt: skip
    pipe: Any = StableAudioPipeline(
        vae=vae, text_encoder=text_encoder, projection_model=projection, tokenizer=tokenizer,
        transformer=transformer, scheduler=scheduler,
    )  # fmt: skip
    pipe.save_pretrained(path)
    return path


def build_ltx2_upsampler(path: Path) -> Path:
    """A tiny LTX-2 latent upsampler (2x spatial) for the tiny LTX-2's 4 latent channels."""
    from diffusers.pipelines.ltx2 import LTX2LatentUpsamplerModel

    torch.manual_seed(0)
    model: Any = LTX2LatentUpsamplerModel(
        in_channels=4, mid_channels=32, num_blocks_per_stage=1, dims=3, spatial_upsample=True,
        temporal_upsample=False, rational_spatial_scale=2.0, use_rational_resampler=False,
    )  # fmt: skip
    model.save_pretrained(path)
    return path
