"""Speech recognition: the Whisper model on disk, decoding, the engine, speakers and turns.

No AWS here: the transcribe pipeline stage (``callsight.stages.transcribe``) and the CLI both use it.
"""
