module custos/integrations/go

go 1.19
