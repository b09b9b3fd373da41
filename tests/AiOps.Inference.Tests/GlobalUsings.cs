global using AiOps.TestModels;
global using Kit = AiOps.TestModels.TestModels;
