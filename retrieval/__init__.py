"""Loading, chunking, embedding, storing and searching articles."""
